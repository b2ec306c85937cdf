// Command digest prints the failed specs of Ginkgo JUnit reports, a few
// lines each, so that the last lines of a failed CI run say what failed
// (the e2e tests' output runs to many thousands of lines before them).
//
//	go run ./.ci/digest build/*.xml
package main

import (
	"encoding/xml"
	"fmt"
	"os"
	"strings"
)

type suites struct {
	Suites []struct {
		Cases []struct {
			Name    string `xml:"name,attr"`
			Status  string `xml:"status,attr"`
			Failure *struct {
				Message string `xml:"message,attr"`
			} `xml:"failure"`
			Error *struct {
				Message string `xml:"message,attr"`
			} `xml:"error"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func main() {
	failed := 0
	for _, path := range os.Args[1:] {
		b, err := os.ReadFile(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, "digest:", err)
			continue
		}
		var s suites
		if err := xml.Unmarshal(b, &s); err != nil {
			fmt.Fprintf(os.Stderr, "digest: %s: %v\n", path, err)
			continue
		}
		for _, ts := range s.Suites {
			for _, c := range ts.Cases {
				msg := ""
				switch {
				case c.Failure != nil:
					msg = c.Failure.Message
				case c.Error != nil:
					msg = c.Error.Message
				default:
					continue
				}
				failed++
				fmt.Printf("%s: %s\n", path, cut(c.Name, 160))
				lines := strings.Split(strings.TrimSpace(msg), "\n")
				if len(lines) > 12 {
					lines = append(lines[:12], "...")
				}
				for _, l := range lines {
					fmt.Printf("    %s\n", cut(l, 200))
				}
			}
		}
	}
	if failed == 0 {
		fmt.Println("no failed spec in", strings.Join(os.Args[1:], " "))
	}
}

func cut(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
