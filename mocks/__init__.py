"""The mock lab: simulated instruments speaking real protocols, wired to simulated device physics."""
