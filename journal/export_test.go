package journal

// export_test.go: the internal test helpers, for the external tests of
// this directory (package journal_test), which also import the packages
// that import the journal (ledgercheck).

var (
	WriteSession = session
	OpenTemp     = openTemp
	Rewrite      = rewrite
	SealValue    = sealValue
	SeqKey       = seqKey
	EnvOf        = envOf
)
