package main

import "syscall"

type syscallRlimit = syscall.Rlimit

func getNofile(l *syscall.Rlimit) error { return syscall.Getrlimit(syscall.RLIMIT_NOFILE, l) }
