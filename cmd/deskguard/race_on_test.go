//go:build race

package main

// raceBuild: the race detector slows the desk several times over, so the
// crash drill paces its venue slower and runs fewer rounds (.ci/run also
// runs the full drill without -race).
const raceBuild = true
