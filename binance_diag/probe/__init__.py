"""The stages that touch the network, and the runner that orders them and owns deadlines."""
