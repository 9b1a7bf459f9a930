"""The Train page's sections: freeze depth and counts, head and training options."""
