package main

func genVec512() {}
func genVec256() {}
