// Command digest prints why a CI run failed, so that its last lines say
// it (the e2e tests' output runs to many thousands of lines before them):
// the failed go tests with their assertion and halab error lines (-gotest,
// the go test -v log), and the failed specs of Ginkgo JUnit reports, a few
// lines each.
//
//	go run ./.ci/digest -gotest build/ci-test.log build/*.xml
package main

import (
	"encoding/xml"
	"flag"
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
	gotest := flag.String("gotest", "", "a go test -v log: its failed tests and why")
	flag.Parse()
	if *gotest != "" {
		f, err := os.Open(*gotest)
		if err != nil {
			fmt.Fprintln(os.Stderr, "digest:", err)
		} else {
			fmt.Printf("==> failed go tests (%s), with their assertion and halab error lines\n", *gotest)
			n, err := goTestDigest(f, os.Stdout, 120)
			f.Close()
			if err != nil {
				fmt.Fprintf(os.Stderr, "digest: %s: %v\n", *gotest, err)
			} else if n == 0 {
				fmt.Println("no failed go test in", *gotest)
			}
		}
	}
	if flag.NArg() == 0 {
		return
	}
	fmt.Println("==> failed specs (the scenario suites' reports; the e2e's broken-on-purpose runs write others)")
	failed := 0
	for _, path := range flag.Args() {
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
		fmt.Println("no failed spec in", strings.Join(flag.Args(), " "))
	}
}

func cut(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
