package main

import "context"

func runDockerAuth(context.Context, *env, []string) error   { return usageErr("not yet") }
func runDockerConfig(context.Context, *env, []string) error { return usageErr("not yet") }
func runWatch(context.Context, *env, []string) error        { return usageErr("not yet") }
func runDemo(context.Context, *env, []string) error         { return usageErr("not yet") }
