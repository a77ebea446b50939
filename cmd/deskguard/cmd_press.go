package main

var cmdPress = notYet("press")
