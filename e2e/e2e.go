// Package e2e holds the end-to-end tests that join deskguard's outside
// parts — Slack (alerts), the panic button and lights (hw) and the web
// console — to the real supervisor, a real journal file and the
// asynchronous sim venue, with trades flowing from a goroutine through
// supervisor.RunLive. It has no code of its own: everything is in its
// _test.go files (rig_test.go builds the desk; slack_test.go,
// button_test.go and console_test.go drive it).
//
// Its tests may touch every package they join, Chromium, and loopback sockets.
package e2e
