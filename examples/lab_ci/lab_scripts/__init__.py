"""This lab's scripts."""
