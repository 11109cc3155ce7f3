// Package kconfig is a native Go Kconfig engine that evaluates Kconfig
// trees exactly as Buildroot's kconfig (Linux 4.17-rc2 plus Buildroot's
// patches) does, and writes byte-identical .config, defconfig, auto.conf
// and autoconf.h files. It is the engine behind `cube-hal conf` (a drop-in
// for support/kconfig/conf, see RunConf), the workspace commands and the
// configurator.
//
// Why a port and not a fresh design: the output has to match conf byte
// for byte on every input, and conf's results depend on details such as
// how it rewrites dependency expressions while building the menu tree,
// the order of its symbol hash table (auto.conf, randconfig) and glibc's
// rand(). The files mirror Linux's scripts/kconfig split: lexer.go
// (tokens), parser.go (grammar to menu tree), expr.go (expressions and
// tristate logic), symbol.go (values, visibility, reverse dependencies),
// menu.go (the tree and its finalisation), confdata.go (reading and
// writing configurations), conf.go (conf's modes). The model API for user
// interfaces is in api.go, explain.go, search.go and standalone.go.
//
// # Loading
//
// Load parses a tree (file names relative to Options.Dir, then $srctree,
// like conf; "option env" and $SYMBOL in source statements read
// Options.LookupEnv). Syntax errors come back as a *LoadError whose
// Diagnostics name file:line:column; warnings go to Options.Stderr in
// conf's format and stay available in Diagnostics. LoadStandalone loads an
// external tree (the Cube tree) without Buildroot, over a built-in base of
// stand-ins for the Buildroot symbols it uses.
//
//	k, err := kconfig.Load("Config.in", kconfig.Options{Dir: buildrootDir, LookupEnv: env.LookupEnv})
//	err = k.ReadConfig(dotConfig)        // conf_read: warnings, never failure on bad lines
//	err = k.ReadDefconfig(defconfig)     // conf --defconfig semantics
//	err = k.WriteConfig(dotConfig)       // atomic, keeps .config.old
//	err = k.WriteDefconfig(path)         // savedefconfig (make also drops BR2_DEFCONFIG=)
//
// # Opening a workspace
//
// Package kconfig/brenv opens a workspace's configuration exactly as
// Buildroot's make would see it: brenv.Open(w, brenv.OpenOptions{})
// writes the BR2_EXTERNAL fragments into $(O), sets the environment make
// gives conf (BR2_VERSION_FULL, HOSTARCH, HOST_GCC_VERSION, BASE_DIR,
// BR2_EXTERNAL_<NAME>_PATH, BR2_DEFCONFIG), loads Config.in with the Cube
// external and reads $(O)/.config, or without one the Cube defconfig as
// `make cube_defconfig` would. Without a Buildroot checkout it opens the
// Cube tree standalone. The *brenv.Session holds the engine (K), where the
// values came from (Source) and where saves go; SaveData computes the
// bytes on the engine's goroutine and brenv.WriteConfigFile writes them
// atomically from any goroutine (or Save does both). A saved session is
// byte-identical to what `cube-hal defconfig` and make write.
//
// # Reading values without the tree
//
// ReadAssignments reads a .config or defconfig strictly (file:line
// errors) for tools that need a few values; ParseConfig reads leniently,
// as conf does; Quote writes a string value as .config spells it.
//
// # The model for a configurator
//
// Root returns the finalised menu tree. Each *Menu has a Kind (menu,
// symbol, choice, comment), a Prompt, Children (with the automatic
// submenus under menuconfig and dependent entries, as menuconfig shows
// them), Visible (with the current values), Help, Location (file, line,
// and the chain of source statements that reached it), IsMenuconfig,
// Dependencies and HiddenBy (the dependency terms that are n, each with
// its value).
//
// A *Symbol (from Menu.Symbol, Lookup, Find, which also accepts names
// without BR2_, or Symbols) has Name, Type, Prompt, Help, Value, Tristate,
// UserValue, Default, Range, Visibility, Changeable, Assignable, Written,
// Definitions, Menus, EnvVariable; a choice has Members and Selection, a
// member has Choice, a choice DefaultSelection. SelectedTo is the lowest
// value selects force (locked options), Check(value) says whether Set
// would accept a value without setting it (validation as the user types).
// Values are computed lazily and always current.
//
// Explain(sym) says why a symbol has its value, as data and as words
// (Explanation.Text): the terms of its dependencies with their values,
// the terms that hide it, the selects forcing it (with the select's file
// and line), the default that applies, what it selects, its range,
// whether it is selected with unmet dependencies.
//
// Set(name, value) assigns a value the way menuconfig does and returns
// every symbol whose value changed as a consequence ([]Change: old and
// new value, and whether the symbol is in .config before and after). A
// refused value returns a *SetError whose Reason is in plain words
// ("it is hidden: BR2_PACKAGE_PYTHON3 [=n] is n"). Unset drops a user
// value. Dirty reports unsaved changes. Both re-evaluate only what the
// assigned symbol can reach (well under a millisecond for one option of
// Buildroot's tree), with the same result as re-evaluating everything;
// the first call after ReadConfig or a render makes one full pass.
//
// Values returns what .config would contain; Diff compares two such maps
// (or ParseConfig results, or DiffFiles) symbol by symbol, in menu order,
// with prompts.
//
// Search(query) matches every term (case-insensitive) against names with
// or without BR2_, prompts and help texts, over symbols, choices, menus
// and comments; best matches first (exact name, name prefix, name,
// prompt, help).
//
// UpdateDefconfigFile rewrites a defconfig in place changing only the
// lines of the symbols a predicate owns (Symbol.InDir selects those of the
// external tree), keeping every other line and comment: standalone
// editing of configs/cube_defconfig.
//
// A Kconfig is not safe for concurrent use; a user interface should own
// it from one goroutine.
package kconfig
