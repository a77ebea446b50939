package main

var cmdDrill = notYet("drill")
