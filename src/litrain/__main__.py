from litrain.cli import main

main()
