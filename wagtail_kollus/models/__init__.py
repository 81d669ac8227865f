"""Local mirror rows. One module per concern; every model is re-exported here."""
