package config

import _ "embed"

// Example is a fully commented example file with every key and default,
// printed by `deskguard config example`.
//
//go:embed example.toml
var Example string
