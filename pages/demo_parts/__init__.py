"""The Demo page's sections: the model chosen by link, the photo, the answer, the short model card."""
