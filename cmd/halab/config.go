package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"halab/lab"
)

func (a *app) configCmd() *cobra.Command {
	var provider bool
	c := &cobra.Command{
		Use:   "config",
		Short: "Print the lab file as halab reads it: validated, defaults and the timing profile applied",
		Long: `config prints the lab file with every default filled in, in the lab
file's own keys. The Vagrantfile reads the same (halab hands it over on
each vagrant call; a plain vagrant up runs this command), so defaults
live in one place.`,
		Args: cobra.NoArgs,
		RunE: a.withLab(false, func(cmd *cobra.Command, l *lab.Lab, _ []string) error {
			if provider {
				_, err := fmt.Fprintln(cmd.OutOrStdout(), l.Provider.Name())
				return err
			}
			data, err := l.Cfg.Resolved()
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(data)
			return err
		}),
	}
	c.Flags().BoolVar(&provider, "provider", false, "print only the provider the lab runs on (auto resolved), for make deps")
	return c
}
