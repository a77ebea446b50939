package main

// cmd_version.go: `deskguard version` and `deskguard --version`: the
// module's version, the commit it was built from (vcs.revision, and
// whether the work tree had changes: vcs.modified) and the Go version,
// all from the binary's build information (runtime/debug.ReadBuildInfo).

import (
	"flag"
	"fmt"
	"io"
	"runtime/debug"
)

func cmdVersion(e *env) int {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	if !parseFlags(e, fs) {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintln(e.stderr, "usage: deskguard version")
		return 2
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		fmt.Fprintln(e.stderr, "deskguard version: no build information in this binary")
		return 1
	}
	writeVersion(e.stdout, bi)
	return 0
}

// writeVersion prints bi's three facts, one a line.
func writeVersion(w io.Writer, bi *debug.BuildInfo) {
	version := bi.Main.Version
	if version == "" {
		version = "(devel)"
	}
	path := bi.Main.Path
	if path == "" {
		path = bi.Path
	}
	fmt.Fprintf(w, "deskguard %s (module %s)\n", version, path)
	var rev, modified, at string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		case "vcs.time":
			at = s.Value
		}
	}
	switch {
	case rev == "":
		fmt.Fprintln(w, "commit: unknown (not built from a version-controlled tree)")
	default:
		line := "commit: " + rev
		if at != "" {
			line += " (" + at + ")"
		}
		switch modified {
		case "true":
			line += ", with uncommitted changes"
		case "false":
			line += ", clean"
		}
		fmt.Fprintln(w, line)
	}
	fmt.Fprintf(w, "go: %s\n", bi.GoVersion)
}
