package main

var cmdReport = notYet("report")
