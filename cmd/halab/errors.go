package main

import "errors"

func asExit[T error](err error, target *T) bool { return errors.As(err, target) }
