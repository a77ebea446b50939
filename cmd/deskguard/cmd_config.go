package main

var cmdConfig = notYet("config")
