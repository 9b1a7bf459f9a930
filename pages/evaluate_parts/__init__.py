"""The Evaluate page's sections: report, mistakes, run comparison."""
