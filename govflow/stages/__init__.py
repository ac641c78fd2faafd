"""Stage logic shared by the flows: plain functions the flows orchestrate and tests call."""
