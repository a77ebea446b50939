package main

var cmdBench = notYet("bench")
