package main

var cmdUnlock = notYet("unlock")
