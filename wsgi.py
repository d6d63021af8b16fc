from lotse import create_app

app = create_app()
