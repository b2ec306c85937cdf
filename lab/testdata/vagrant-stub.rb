# Loads a Vagrantfile with a stand-in for Vagrant's configuration API and
# prints, as JSON, what it asks of each provider: the plan a real
# `vagrant up` would carry out. Used by vagrantfile_test.go.
require 'json'

class Recorder
  attr_reader :calls
  def initialize(calls = {})
    @calls = calls
  end

  def method_missing(name, *args, **kw, &blk)
    key = name.to_s
    if key.end_with?('=')
      @calls[key.chomp('=')] = args.first
      return
    end
    child = Recorder.new
    @calls[key] ||= []
    # what is set on the returned object and what its block sets land in
    # the same place: config.vm.box = ... and config.vm.define ... do
    entry = { 'args' => args, 'kw' => kw, 'block' => child.calls }
    @calls[key] << entry
    if blk
      if blk.arity == 2
        override = Recorder.new
        blk.call(child, override)
        entry['override'] = override.calls
      else
        blk.call(child)
      end
    end
    child
  end

  def respond_to_missing?(*)
    true
  end
end

module Vagrant
  def self.configure(_version)
    @root = Recorder.new
    yield @root
  end

  def self.plan
    @root.calls
  end
end

load ARGV.fetch(0)
puts JSON.generate(Vagrant.plan)
