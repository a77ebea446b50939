package main

var cmdRun = notYet("run")
