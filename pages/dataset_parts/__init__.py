"""The Dataset page's sections: sources, health, browse, augmentation preview."""
