package main

var cmdRearm = notYet("rearm")
