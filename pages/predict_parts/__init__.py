"""The Predict page's sections: inputs, results, batch prediction, export."""
