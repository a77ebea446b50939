package main

var cmdVenue = notYet("venue")
