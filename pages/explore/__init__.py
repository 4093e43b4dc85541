"""The explore page: ``page`` registers it (layout and callbacks), ``model`` holds its view model."""
