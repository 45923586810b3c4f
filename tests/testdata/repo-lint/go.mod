module corp.example/app

go 1.22.0
