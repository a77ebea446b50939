package main

var cmdStatus = notYet("status")
