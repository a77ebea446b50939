package main

var cmdSignals = notYet("signals")
