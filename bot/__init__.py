"""支部通: the edges — config, CLI, web app, scheduler, delivery, WeCom I/O."""
