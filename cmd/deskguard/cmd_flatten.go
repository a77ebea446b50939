package main

var cmdFlatten = notYet("flatten")
