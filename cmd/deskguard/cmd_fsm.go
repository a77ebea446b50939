package main

var cmdFSM = notYet("fsm")
