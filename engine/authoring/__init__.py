"""What playbook authors and CI use: diagnostics (``calmly validate``'s formats), diagrams, timelines, simulation
and playbook tests.

Its modules are imported one by one (``from engine.authoring.diagnostics import render``), so ``calmly validate``
loads the diagnostics without the simulator and the service layer it drives.
"""
