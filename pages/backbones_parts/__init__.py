"""The Backbones page's sections: weights, your own model as a backbone."""
