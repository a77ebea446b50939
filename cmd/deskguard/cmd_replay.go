package main

var cmdReplay = notYet("replay")
