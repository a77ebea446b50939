// Package mutate is deskguard's mutation suite: a fixed list of named,
// plausible one-line bugs in the risk-critical code (mutants.toml), each
// applied to a fresh copy of the module and run against the tests of the
// package it lives in. The suite passes only when every mutant is killed
// by a failing test; a mutant that survives, no longer matches the code
// (stale) or does not build fails it. The command is
// internal/mutate/cmd/mutate; docs/testing.md says how to run it and how
// to add a mutant.
//
// No maintained Go mutation tool served by the module proxy runs a fixed
// list of named mutants (gremlins, the one served, mutates operator classes
// over whatever the tests cover), so this is a small runner of our own.
//
// It may touch only the file system (copies of the module in a temporary
// directory; the working tree is only read) and the go command it runs.
package mutate
