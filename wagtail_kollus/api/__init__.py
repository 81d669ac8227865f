"""Plain HTTP clients for the contents API and the Kollus API (no Django models here)."""
