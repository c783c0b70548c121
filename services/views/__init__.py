"""The services pages, one module per area: services (list, detail), orders, hosting, domains, dns."""
