package main

var cmdWorker = notYet("worker")
