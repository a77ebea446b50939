// Package hw drives the desk's physical panic button and indicator lights
// over periph.io GPIO, with a simulated pin for development.
//
// The button is an edge-triggered, debounced gpio.PinIn watcher: a press
// counts when the pressed level holds for the debounce window, and calls
// Desk.Flatten(ctx, "", "panic_button", pin). Normally-closed wiring is
// fail-safe: a line open for longer than the wire-cut hold flattens too, with
// the trigger "panic_button_wire_cut", and reports the button offline. A
// watcher that loses its driver or panics reports OnHealth(false, why) and
// restarts itself with backoff. The lights show the desk state: green =
// running, red = halted or an account locked out, blinking red = halting,
// and an optional buzzer pulse on a kill.
//
// hw never imports the supervisor: the supervisor implements Desk and calls
// Lights.Set on every transition. Every timing goes through an injected
// clockwork.Clock so tests are deterministic.
//
// It may touch periph.io (the Linux GPIO character device through gpioioctl only; no cgo) and
// clockwork, and nothing of deskguard.
package hw
