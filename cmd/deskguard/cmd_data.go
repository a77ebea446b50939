package main

var cmdData = notYet("data")
