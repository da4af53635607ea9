from .sin_fit import main

main()
