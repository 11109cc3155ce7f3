// Package measure computes the launch measurement an AMD SEV-SNP guest will
// report, before it is started, from the very files it is started with.
//
// The AMD secure processor measures a guest while the hypervisor loads it:
// every page handed to SNP_LAUNCH_UPDATE extends a SHA-384 chain (the PAGE_INFO
// digest of the SEV-SNP firmware ABI), and the final value is the MEASUREMENT
// field of every attestation report the guest later produces. A verifier that
// wants to know "is this the image I built?" recomputes that chain. For a QEMU
// guest booted with OVMF the chain covers, in order:
//
//  1. the OVMF firmware image, page by page, mapped so that it ends at 4 GiB
//     (this prefix can be precomputed: [OVMFHash]);
//  2. the pages OVMF's SEV metadata asks to be pre-validated: zero pages
//     (SNP_SEC_MEM, SVSM CAA), the secrets page, the CPUID page, and the SEV
//     hashes page (SNP_KERNEL_HASHES) which, with kernel-hashes=on, carries
//     SHA-256 hashes of the kernel, initrd and command line;
//  3. one VMSA page (initial register state) per vCPU, which depends on the
//     vCPU model's CPUID signature, the SEV features and the VMM.
//
// [SNPDigest] performs all three steps. The layouts follow the SEV-SNP
// firmware ABI (PAGE_INFO, page types), edk2's OVMF reset-vector GUID table
// and SEV metadata, QEMU's SEV hashes table and AMD's VMSA layout; the results
// match the published test vectors of the reference tool (virtee's
// sev-snp-measure).
package measure
