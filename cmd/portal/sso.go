package main

import "context"

func (c *cli) sso(ctx context.Context, args []string) error {
	return badInputf("portal sso: not available yet")
}

func (c *cli) user(ctx context.Context, args []string) error {
	return badInputf("portal user: not available yet")
}
