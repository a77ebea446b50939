package main

var cmdJournal = notYet("journal")
