"""tkern.nn: modules, parameters, losses and functional ops with torch's API."""
